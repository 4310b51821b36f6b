use super::*;
use tributary_sql::TimeUnit;

fn window(kind: WindowKind, unit: Option<TimeUnit>) -> Window {
    Window {
        kind,
        unit,
        filter: None,
        trigger: None,
    }
}

fn row(ts: i64) -> Entry {
    Entry::Row(Row::new(vec![], Default::default(), ts))
}

fn times(f: &Fired) -> Vec<i64> {
    f.entries
        .iter()
        .map(|e| match e {
            Entry::Row(r) => r.timestamp,
            _ => -1,
        })
        .collect()
}

fn feed(a: &mut Assigner, ts: &[i64], flags: Flags) -> Vec<Fired> {
    let mut out = Vec::new();
    for &t in ts {
        a.insert(t, row(t), flags, &mut out);
    }
    out
}

const ALL: Flags = Flags {
    trigger: true,
    begin: false,
    emit: false,
};

#[test]
fn tumbling_in_processing_time_starts_at_the_rule_start() {
    let w = window(WindowKind::Tumbling { size: 1000 }, Some(TimeUnit::Second));
    let mut a = Assigner::new(w, 10_000, false);
    assert_eq!(a.next_due(), Some(11_000));
    let out = feed(&mut a, &[10_100, 10_900, 11_000, 13_500], ALL);
    // [10000, 11000), [11000, 12000), the empty [12000, 13000)
    assert_eq!(out.len(), 3);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (10_000, 11_000, vec![10_100, 10_900])
    );
    assert_eq!(
        (out[1].start, out[1].end, times(&out[1])),
        (11_000, 12_000, vec![11_000])
    );
    assert!(out[2].entries.is_empty());
    let mut more = Vec::new();
    a.advance(14_000, &mut more);
    assert_eq!(times(&more[0]), vec![13_500]);
}

#[test]
fn hopping_windows_overlap() {
    let w = window(
        WindowKind::Hopping {
            size: 2000,
            hop: 1000,
        },
        Some(TimeUnit::Second),
    );
    let mut a = Assigner::new(w, 10_000, false);
    let out = feed(&mut a, &[10_500, 11_500, 12_500], ALL);
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (9_000, 11_000, vec![10_500])
    );
    assert_eq!(
        (out[1].start, out[1].end, times(&out[1])),
        (10_000, 12_000, vec![10_500, 11_500])
    );
}

#[test]
fn sliding_windows_fire_per_tuple_and_after_a_delay() {
    let w = window(
        WindowKind::Sliding {
            size: 1000,
            delay: 0,
        },
        Some(TimeUnit::Second),
    );
    let mut a = Assigner::new(w, 0, false);
    let out = feed(&mut a, &[100, 900, 1100, 2500], ALL);
    // [t - size, t] is closed at both ends
    assert_eq!(times(&out[2]), vec![100, 900, 1100]);
    assert_eq!((out[2].start, out[2].end), (100, 1100));
    assert_eq!(times(&out[3]), vec![2500]);

    let w = window(
        WindowKind::Sliding {
            size: 1000,
            delay: 500,
        },
        Some(TimeUnit::Second),
    );
    let mut a = Assigner::new(w, 0, false);
    let mut out = feed(&mut a, &[1000, 1200], ALL);
    assert!(out.is_empty());
    assert_eq!(a.next_due(), Some(1500));
    a.advance(1600, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (0, 1500, vec![1000, 1200])
    );
}

#[test]
fn sessions_close_on_timeout_or_at_the_max_duration_tick() {
    let w = window(
        WindowKind::Session {
            max: 2000,
            timeout: 1000,
        },
        Some(TimeUnit::Second),
    );
    let mut a = Assigner::new(w, 0, false);
    let mut out = feed(&mut a, &[100, 600, 1500], ALL);
    assert!(out.is_empty());
    a.advance(2500, &mut out);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (100, 2500, vec![100, 600, 1500])
    );
    // a session that lasted max is cut at the aligned tick (10 s)
    let out = feed(&mut a, &[8000, 8800, 9600, 10_400], ALL);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (8000, 10_000, vec![8000, 8800, 9600])
    );
}

#[test]
fn count_windows_emit_every_hop_tuples() {
    let w = window(WindowKind::Count { size: 3, hop: 3 }, None);
    let mut a = Assigner::new(w, 0, false);
    let out = feed(&mut a, &[1, 2, 3, 4, 5, 6, 7], ALL);
    assert_eq!(
        out.iter().map(times).collect::<Vec<_>>(),
        vec![vec![1, 2, 3], vec![4, 5, 6]]
    );
    let w = window(WindowKind::Count { size: 3, hop: 1 }, None);
    let mut a = Assigner::new(w, 0, false);
    let out = feed(&mut a, &[1, 2, 3, 4], ALL);
    assert_eq!(
        out.iter().map(times).collect::<Vec<_>>(),
        vec![vec![1, 2, 3], vec![2, 3, 4]]
    );
}

#[test]
fn state_windows_run_from_begin_to_emit() {
    let w = window(
        WindowKind::State {
            begin: Box::new(tributary_sql::Expr::field("a")),
            emit: Box::new(tributary_sql::Expr::field("b")),
        },
        None,
    );
    let mut a = Assigner::new(w, 0, false);
    let mut out = Vec::new();
    let f = |begin, emit| Flags {
        trigger: true,
        begin,
        emit,
    };
    a.insert(1, row(1), f(false, false), &mut out);
    a.insert(2, row(2), f(true, false), &mut out);
    a.insert(3, row(3), f(false, false), &mut out);
    a.insert(4, row(4), f(false, true), &mut out);
    a.insert(5, row(5), f(false, false), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (2, 4, vec![2, 3, 4])
    );
}

#[test]
fn event_time_windows_are_aligned_from_the_first_tuple() {
    let w = window(WindowKind::Tumbling { size: 1000 }, Some(TimeUnit::Second));
    let mut a = Assigner::new(w, 0, true);
    assert_eq!(a.next_due(), None);
    let mut out = feed(&mut a, &[10_300, 10_700], ALL);
    assert_eq!(a.next_due(), Some(11_000));
    a.advance(12_000, &mut out);
    assert_eq!(
        (out[0].start, out[0].end, times(&out[0])),
        (10_000, 11_000, vec![10_300, 10_700])
    );
    assert_eq!((out[1].start, out[1].end), (11_000, 12_000));
}
