"""jiekou.ai: bearer key, JSON submit, then a task id to poll, with progress in percent.

``models`` holds its catalogue entries, ``adapter`` translates jobs to its API, and ``emulator`` serves
that API on loopback for tests and offline runs.
"""
