/*
 * tributary_plugin.h: the C ABI of Tributary's native plugin tier, version 2.
 *
 * A native plugin is a shared object (`Name.so`, `name.so` or `Name@v1.0.0.so`) under
 * `<root>/plugins/{functions,sources,sinks}/`. It exports ONE data symbol named after
 * the plugin with its first letter in upper case (`echo.so` exports `Echo`): a
 * `tp_plugin` descriptor. The host reads `abi_version` and `layout` first and refuses
 * the file when either differs from its own, so a mismatch is an error, never
 * undefined behaviour.
 *
 * The contract mirrors the WIT package tributary:plugin@0.2.0 (wit/ in the repository):
 * the same three kinds (function, source, sink), the same operations and batch forms
 * (typed columns and results included), the same state and context API, reached
 * through the `tp_host` table the host passes to every instance.
 *
 * Version 2 adds, to version 1: typed columns (`tp_column.form`) and typed results
 * (`tp_results`), source offsets, rewinds and lookups (`tp_source_vtable.flags` and
 * its last entries), `plugin_path` and `set_connection` in `tp_host`, and
 * `root_path` now returns the engine root (version 1: the plugin's own folder). A
 * plugin built against version 1 keeps loading and is called exactly as before.
 *
 * Memory rules (the whole ABI follows them):
 *  - Everything the host passes in (values, strings, rows) is borrowed for the duration
 *    of the call only.
 *  - Everything a plugin hands back (result values, strings inside them, error texts,
 *    pulled messages) stays owned by the plugin and must stay valid until the next call
 *    into the same instance (for calls without an instance, `validate` and the
 *    constructors: until the next call into the plugin on the same thread). The host
 *    copies it before making another call.
 *  - Strings are UTF-8 and not NUL-terminated: a pointer and a length.
 *
 * Threads: an instance is called by one thread at a time. A singleton (an "exported
 * instance", `singleton = 1`) is shared by every rule; the host serialises its calls.
 *
 * Every entry of the function, source and sink tables is required except
 * `exec_groups`; a NULL entry makes the host refuse the file at load.
 *
 * `validate` and `create` may be called from several threads at once; an instance is
 * called by one thread at a time.
 *
 * A return code of 0 is success. A non-zero code fails the call, and the plugin sets
 * `*err` to a message the user will read.
 */
#ifndef TRIBUTARY_PLUGIN_H
#define TRIBUTARY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TP_ABI_VERSION 2u

/* Borrowed bytes or UTF-8 text. */
typedef struct tp_slice {
    const uint8_t *ptr;
    size_t len;
} tp_slice;

/* Value kinds. TP_ERROR appears only in results: that row failed with `as.s`. */
typedef enum tp_kind {
    TP_NULL = 0,
    TP_BOOL = 1,
    TP_INT = 2,
    TP_FLOAT = 3,
    TP_STR = 4,
    TP_BYTES = 5,
    TP_DATETIME = 6, /* nanoseconds since the Unix epoch, UTC, in `as.i` */
    TP_JSON = 7,     /* an array or an object as JSON text, in `as.s` */
    TP_ERROR = 8
} tp_kind;

/* One SQL value: a scalar crosses as itself, without serialisation. */
typedef struct tp_value {
    uint32_t kind; /* tp_kind */
    uint32_t _reserved;
    union {
        uint8_t b;  /* TP_BOOL: 0 or 1 */
        int64_t i;  /* TP_INT, TP_DATETIME */
        double f;   /* TP_FLOAT */
        tp_slice s; /* TP_STR, TP_BYTES, TP_JSON, TP_ERROR */
    } as;
} tp_value;

/* Forms of a column or of results. */
typedef enum tp_form {
    TP_COL_SCALAR = 0,   /* one value in `values` (a constant argument) */
    TP_COL_VALUES = 1,   /* one value per row in `values` */
    TP_COL_INTS = 2,     /* `data` is int64_t[len] */
    TP_COL_FLOATS = 3,   /* `data` is double[len] */
    TP_COL_BOOLS = 4,    /* `data` is uint8_t[len], 0 or 1 */
    TP_COL_STRS = 5,     /* `data` is tp_slice[len] of UTF-8 text (arguments only) */
    TP_COL_BYTES = 6,    /* `data` is tp_slice[len] of bytes (arguments only) */
    TP_COL_DATETIMES = 7 /* `data` is int64_t[len], ns since the Unix epoch */
} tp_form;

/* One argument of a batch call. A constant argument arrives once (TP_COL_SCALAR,
 * `len = 1`). A column whose rows are all of one type (or null) arrives typed: `data`
 * holds the flat list and `nulls`, when not NULL, one flag per row (1: null; the list
 * holds 0 or an empty slice there). Any other column is TP_COL_VALUES. */
typedef struct tp_column {
    uint32_t form; /* tp_form */
    uint32_t _reserved;
    const tp_value *values;
    const void *data;
    const uint8_t *nulls;
    size_t len;
} tp_column;

/* Where a function writes its results. The host provides every buffer, `len` slots
 * each, zeroed, and sets `form` to TP_COL_VALUES. The plugin either fills `values`
 * (a TP_ERROR value fails one row), or fills `data` as one typed list (8 bytes per
 * slot: int64_t or double; for TP_COL_BOOLS one 0/1 byte per row from the start),
 * sets `nulls[i] = 1` for the null rows and sets `form` to TP_COL_INTS, TP_COL_FLOATS,
 * TP_COL_BOOLS or TP_COL_DATETIMES. */
typedef struct tp_results {
    uint32_t form;
    uint32_t _reserved;
    tp_value *values;
    void *data;
    uint8_t *nulls;
    size_t len;
} tp_results;

/* An argument as known when a rule is created: a literal, or known only at run time. */
typedef struct tp_arg_info {
    uint32_t is_literal;
    uint32_t _reserved;
    tp_value literal;
} tp_arg_info;

/* One group of an aggregate call: the group's argument columns. */
typedef struct tp_group {
    const tp_column *args;
    size_t nargs;
    size_t rows;
} tp_group;

/* A named value: a field of a row or of a message, or a metadata entry. */
typedef struct tp_field {
    tp_slice name;
    tp_value value;
} tp_field;

/* A row: its fields. */
typedef struct tp_row {
    const tp_field *fields;
    size_t len;
} tp_row;

/* One message from a source: structured fields, or bytes for the stream's FORMAT. */
typedef struct tp_message {
    uint32_t is_bytes;
    uint32_t _reserved;
    tp_slice bytes;
    const tp_field *fields;
    size_t nfields;
    const tp_field *meta;
    size_t nmeta;
} tp_message;

/* The rows a lookup answered. */
typedef struct tp_rows {
    const tp_row *rows;
    size_t len;
} tp_rows;

/* What one pull returned. */
typedef struct tp_pulled {
    const tp_message *messages;
    size_t len;
    uint32_t done;    /* no more messages, ever */
    uint32_t wait_ms; /* how long to wait before the next pull (0: at once) */
} tp_pulled;

/* Log levels of tp_host.log. */
enum { TP_TRACE = 0, TP_DEBUG = 1, TP_INFO = 2, TP_WARN = 3, TP_ERROR_LEVEL = 4 };

/* Connection states of tp_host.set_connection (eKuiper's encoding). */
enum { TP_CONNECTED = 1, TP_CONNECTING = 0, TP_DISCONNECTED = -1 };

/* State return codes (0 is success). */
enum { TP_STATE_OK = 0, TP_STATE_MISSING = 1, TP_STATE_NOT_INTEGER = 2, TP_STATE_STORE = 3 };

/* What the host offers an instance: the state API (scoped to this instance) and its
 * context. `ctx` is passed back on every call. Texts the host returns stay valid until
 * the next call into the host through this table. */
typedef struct tp_host {
    uint32_t abi_version;
    uint32_t _reserved;
    void *ctx;
    int32_t (*put_state)(void *ctx, tp_slice key, const tp_value *value, tp_slice *err);
    /* TP_STATE_MISSING when the key is absent: `*out` is then untouched. */
    int32_t (*get_state)(void *ctx, tp_slice key, tp_value *out, tp_slice *err);
    int32_t (*delete_state)(void *ctx, tp_slice key, tp_slice *err);
    /* A missing counter is 0; TP_STATE_NOT_INTEGER when the key holds something else. */
    int32_t (*incr_counter)(void *ctx, tp_slice key, int64_t amount, int64_t *out, tp_slice *err);
    int32_t (*get_counter)(void *ctx, tp_slice key, int64_t *out, tp_slice *err);
    tp_slice (*rule_id)(void *ctx);
    tp_slice (*operator_id)(void *ctx);
    tp_slice (*instance_id)(void *ctx);
    /* The engine root: relative paths in props are relative to it. */
    tp_slice (*root_path)(void *ctx);
    void (*log)(void *ctx, uint32_t level, tp_slice message);
    /* Version 2 on. `<root>/etc/<kind>/<name>`, the plugin's own folder. */
    tp_slice (*plugin_path)(void *ctx);
    /* A source's or sink's connection (TP_CONNECTED, ...), with why when it is not
     * connected; shown in the rule's status. */
    void (*set_connection)(void *ctx, int32_t state, tp_slice message);
} tp_host;

/* Function kinds. */
enum { TP_SCALAR = 0, TP_AGGREGATE = 1 };

typedef struct tp_function_def {
    tp_slice name; /* the SQL name (camelCase; case-insensitive in SQL) */
    uint32_t kind; /* TP_SCALAR or TP_AGGREGATE */
    uint32_t _reserved;
} tp_function_def;

typedef struct tp_function_vtable {
    const tp_function_def *functions;
    size_t nfunctions;
    /* Checks a call when a rule is created; the error names the parameter. */
    int32_t (*validate)(tp_slice name, const tp_arg_info *args, size_t nargs, tp_slice *err);
    /* An instance of function `name` (one per rule and call site, or the singleton). */
    void *(*create)(const tp_host *host, tp_slice name, tp_slice *err);
    /* Scalar: `rows` rows; fills `out` for exactly `rows` rows. */
    int32_t (*exec)(void *inst, const tp_column *args, size_t nargs, size_t rows,
                    tp_results *out, tp_slice *err);
    /* Aggregate: one result per group. NULL for plugins without aggregates. */
    int32_t (*exec_groups)(void *inst, const tp_group *groups, size_t ngroups,
                           tp_results *out, tp_slice *err);
    void (*destroy)(void *inst);
} tp_function_vtable;

typedef struct tp_source_vtable {
    /* `datasource` is the stream's DATASOURCE; `props` its conf as a JSON object. */
    void *(*create)(const tp_host *host, tp_slice datasource, tp_slice props, tp_slice *err);
    int32_t (*open)(void *inst, tp_slice *err);
    /* Up to `max` messages; never blocks (`wait_ms` paces the host). */
    int32_t (*pull)(void *inst, uint32_t max, tp_pulled *out, tp_slice *err);
    void (*close)(void *inst);
    void (*destroy)(void *inst);
    /* Version 2 on. TP_SOURCE_REWINDABLE | TP_SOURCE_LOOKUP: each flag makes its
     * entries required (NULL otherwise). */
    uint32_t flags;
    uint32_t _reserved;
    /* Where the source stands after every message it handed over, in a form only it
     * reads: sets `*out` and returns 1, or returns 0 when it has none. The host saves
     * it with a rule's checkpoint. */
    int32_t (*offset)(void *inst, tp_slice *out);
    /* Goes back to an offset it gave, after `open` and before the first pull. */
    int32_t (*rewind)(void *inst, tp_slice offset, tp_slice *err);
    /* A lookup table's query: the rows whose fields `keys[i]` equal `values[i]`, with
     * the `fields` asked for (every field when `nfields` is 0). */
    int32_t (*lookup)(void *inst, const tp_slice *fields, size_t nfields, const tp_slice *keys,
                      const tp_value *values, size_t nkeys, tp_rows *out, tp_slice *err);
} tp_source_vtable;

/* tp_source_vtable.flags */
enum { TP_SOURCE_REWINDABLE = 1, TP_SOURCE_LOOKUP = 2 };

typedef struct tp_sink_vtable {
    /* `props` is the action's properties as a JSON object. */
    void *(*create)(const tp_host *host, tp_slice props, tp_slice *err);
    int32_t (*open)(void *inst, tp_slice *err);
    int32_t (*collect)(void *inst, const tp_row *rows, size_t nrows, tp_slice *err);
    int32_t (*close)(void *inst, tp_slice *err);
    void (*destroy)(void *inst);
} tp_sink_vtable;

/* Plugin kinds. */
enum { TP_PLUGIN_FUNCTION = 0, TP_PLUGIN_SOURCE = 1, TP_PLUGIN_SINK = 2 };

/* The exported descriptor. Exactly one of the three tables is set, matching `kind`. */
typedef struct tp_plugin {
    uint32_t abi_version; /* TP_ABI_VERSION */
    uint32_t layout;      /* TP_LAYOUT_FINGERPRINT */
    uint32_t kind;        /* TP_PLUGIN_* */
    uint32_t singleton;   /* 1: one shared instance (eKuiper's exported instance) */
    const tp_function_vtable *function;
    const tp_source_vtable *source;
    const tp_sink_vtable *sink;
} tp_plugin;

/* A fingerprint of the layout this header produces with this compiler: sizes and key
 * offsets folded together. The host computes the same from its own definitions. */
#define TP__FOLD(h, x) ((h) * 31u + (uint64_t)(x))
#define TP_LAYOUT_FINGERPRINT ((uint32_t)TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD(TP__FOLD((uint64_t)TP_ABI_VERSION, sizeof(tp_results)), sizeof(tp_rows)), sizeof(tp_slice)), sizeof(tp_value)), offsetof(tp_value, as)), sizeof(tp_column)), sizeof(tp_arg_info)), sizeof(tp_group)), sizeof(tp_field)), offsetof(tp_field, value)), sizeof(tp_row)), sizeof(tp_message)), sizeof(tp_pulled)), sizeof(tp_host)), sizeof(tp_function_vtable)), sizeof(tp_source_vtable)), sizeof(tp_sink_vtable)), sizeof(tp_plugin)))

/* Exports a descriptor under the plugin's symbol name. */
#if defined(_WIN32)
#define TP_EXPORT __declspec(dllexport)
#else
#define TP_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
}
#endif

#endif /* TRIBUTARY_PLUGIN_H */
