"""The `jsonl` source, written in Python: the lines of a JSON-lines file as a stream
(rewindable: its offset is the byte position after the last line handed over) or as
a lookup table (the lines whose fields equal the keys asked for).

The same plugin as the Rust example guests/examples/jsonl-source, built with
componentize-py against the `source-plugin` world of wit/.
"""

from wit_world import exports
from wit_world.exports.source import SourceInfo


class Source(exports.Source):
    def describe(self) -> SourceInfo:
        return SourceInfo(rewindable=True, lookup=True)
