"""The registry: the agents a person lists in registry/agents.yaml, loaded, checked and indexed.

Open `loader.py` first: `load_registry()` reads the YAML (`yaml_values.py` for the small
values), checks it (`validation.py`) and returns it with its routing index, cached in a file a
route reads piece by piece. Beside them: `importer.py` brings in the original system's
registry.json; `pricing.py` reads registry/models.yaml (what each model costs per token).
"""
