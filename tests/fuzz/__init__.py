"""A seeded fuzzer of import files: the mutation engine (`mutate`) and the worker that imports
its cases into fresh stores (`worker`)."""
