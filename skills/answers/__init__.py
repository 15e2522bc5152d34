"""Answers from the data itself: a data agent's question read into one SQL query, or refused in words.

Open `model.py` first (the shapes: Schema, Lexicon, Reading, Refusal). `schema.py` reads a
database's schema through the read-only connection; `schema_cache.py` keeps it with the routing
names; `lexicon.py` reads the words a person wrote for it (registry/lexicon/*.yaml);
`interpreter.py` turns a question into a Reading or a Refusal, through `words.py` (tokens, stems,
numbers, dates), `vocabulary.py` (every phrase a schema and lexicon answer to, kept on disk),
`scanning.py` (the meanings of the question's words), `planning.py` (one combination of meanings
walked into a plan), `finishing.py` (the rules that read the whole plan), `query.py` (a plan into
SQL) and `saying.py` (the result in words);
`data_tools.py` are the tools every data agent gets (list, describe, sizes, read-only SQL).
`reading.py` and `server_names.py` serve the other agents' offline answers (yes/no from a tool's
facts; the server a vps-monitor question names).
"""
