/*
 * accumulateWordCount(text, separator) in C: adds the number of words of `text` split
 * by `separator` to the counter "allwordcount" through the host's state API and returns
 * the running total. The same plugin as the Rust example, proof that the native ABI is
 * language-neutral. A typed column of strings (TP_COL_STRS) is read as its list of
 * slices; the totals go back as one typed list of integers unless a row fails. Build:
 *
 *   cc -shared -fPIC -O2 -I native-plugins/include \
 *      -o accumulateWordCount.so native-plugins/c/accumulate_word_count.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary_plugin.h"

#define NAME "accumulateWordCount"

/* One instance per rule and call site: the host table and the last error text. */
typedef struct instance {
    const tp_host *host;
    char err[256];
} instance;

static _Thread_local char thread_err[256];

static tp_slice text(const char *s) {
    tp_slice out = {(const uint8_t *)s, strlen(s)};
    return out;
}

static int32_t fail(char *buf, tp_slice *err, const char *msg) {
    snprintf(buf, 256, "%s", msg);
    *err = text(buf);
    return -1;
}

static int32_t validate(tp_slice name, const tp_arg_info *args, size_t nargs, tp_slice *err) {
    (void)name;
    if (nargs != 2) {
        snprintf(thread_err, sizeof thread_err, NAME " expects 2 arguments but found %zu", nargs);
        *err = text(thread_err);
        return -1;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].is_literal && args[i].literal.kind != TP_STR) {
            snprintf(thread_err, sizeof thread_err, "parameter %zu must be a string", i + 1);
            *err = text(thread_err);
            return -1;
        }
    }
    return 0;
}

static void *create(const tp_host *host, tp_slice name, tp_slice *err) {
    (void)name;
    instance *inst = calloc(1, sizeof *inst);
    if (!inst) {
        fail(thread_err, err, "out of memory");
        return NULL;
    }
    inst->host = host;
    return inst;
}

/* Row `row` of an argument as a value, whatever the column's form (only the forms
 * this function reads: values, a constant, typed strings). */
static tp_value cell(const tp_column *c, size_t row) {
    tp_value v = {0};
    switch (c->form) {
    case TP_COL_SCALAR:
        return c->values[0];
    case TP_COL_VALUES:
        return c->values[row];
    case TP_COL_STRS:
        if (c->nulls && c->nulls[row]) return v;
        v.kind = TP_STR;
        v.as.s = ((const tp_slice *)c->data)[row];
        return v;
    default:
        v.kind = TP_INT; /* any other typed column: not a string */
        return v;
    }
}

/* Words of `s` split by `sep` (whitespace when `sep` is empty), empty words skipped. */
static int64_t count_words(tp_slice s, tp_slice sep) {
    int64_t n = 0;
    size_t i = 0;
    while (i < s.len) {
        size_t start = i;
        while (i < s.len) {
            if (sep.len == 0) {
                if (s.ptr[i] == ' ' || s.ptr[i] == '\t' || s.ptr[i] == '\n' || s.ptr[i] == '\r') break;
            } else if (i + sep.len <= s.len && memcmp(s.ptr + i, sep.ptr, sep.len) == 0) {
                break;
            }
            i++;
        }
        if (i > start) n++;
        i += (i < s.len) ? (sep.len == 0 ? 1 : sep.len) : 0;
    }
    return n;
}

static int32_t exec(void *p, const tp_column *args, size_t nargs, size_t rows, tp_results *out, tp_slice *err) {
    instance *inst = p;
    if (nargs != 2) return fail(inst->err, err, NAME " expects 2 arguments");
    int64_t *totals = out->data;
    int failed = 0;
    for (size_t r = 0; r < rows; r++) {
        tp_value t = cell(&args[0], r), sep = cell(&args[1], r);
        tp_value v = {0};
        if (t.kind == TP_NULL) {
            v.kind = TP_NULL;
            out->nulls[r] = 1;
        } else if (t.kind != TP_STR) {
            v.kind = TP_ERROR;
            v.as.s = text("parameter 1 must be a string");
            failed = 1;
        } else if (sep.kind != TP_STR) {
            v.kind = TP_ERROR;
            v.as.s = text("parameter 2 must be a string");
            failed = 1;
        } else {
            int64_t total = 0;
            tp_slice e = {0};
            const tp_host *h = inst->host;
            if (h->incr_counter(h->ctx, text("allwordcount"), count_words(t.as.s, sep.as.s), &total, &e) != TP_STATE_OK) {
                return fail(inst->err, err, "state: the counter could not be incremented");
            }
            v.kind = TP_INT;
            v.as.i = total;
            totals[r] = total;
        }
        out->values[r] = v;
    }
    /* No row failed: the totals as one typed list (the values are filled either way). */
    if (!failed) out->form = TP_COL_INTS;
    return 0;
}

static void destroy(void *p) { free(p); }

static const tp_function_def functions[] = {
    {{(const uint8_t *)NAME, sizeof NAME - 1}, TP_SCALAR, 0},
};

static const tp_function_vtable vtable = {
    functions, 1, validate, create, exec, NULL, destroy,
};

TP_EXPORT const tp_plugin AccumulateWordCount = {
    TP_ABI_VERSION, TP_LAYOUT_FINGERPRINT, TP_PLUGIN_FUNCTION, 0, &vtable, NULL, NULL,
};
