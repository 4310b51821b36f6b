//! Not a plugin: the benches' baseline. `x + 1` over a plain `list<s64>`, the least a
//! component call over a batch of integers can cost, measured with raw wasmtime
//! beside the tier's typed `addOne` (benches/wasm_function.rs).

wit_bindgen::generate!({
    inline: r"
        package tributary:bench;
        world raw {
            export add-one: func(xs: list<s64>) -> list<s64>;
        }
    ",
});

struct Raw;

impl Guest for Raw {
    fn add_one(xs: Vec<i64>) -> Vec<i64> {
        xs.iter().map(|x| x.wrapping_add(1)).collect()
    }
}

export!(Raw);
