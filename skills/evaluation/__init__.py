"""Evaluations: how good routing and answers are, on question sets and public benchmarks.

`routing.py` scores route() on labelled tasks (`bin/evaluate_routing`, `routing_command.py`);
`clinc.py` turns the public CLINC150 benchmark into a registry (`bin/benchmark_accuracy`,
`accuracy_command.py`); `answers.py` scores offline answers against SQL truth
(`bin/evaluate_answers`, `answers_command.py`). No product module imports this package.
"""
