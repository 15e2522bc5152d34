"""Answers users can trust: the data agents' offline planners and everyday tools, and how they read a question.

`reading` turns a person's words into what was asked (names, places, yes/no); `entities` and
`places` know the names FibreFlow's data holds; `offline_plans` picks a tool and its arguments
without a model; `procurement`, `project_sites` and `server_names` are the agents' shared tools;
`evaluation` scores all of it against SQL truth (bin/evaluate_answers).
"""
