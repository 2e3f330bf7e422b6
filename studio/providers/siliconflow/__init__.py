"""SiliconFlow: bearer key, JSON submit, then a status call by request id.

``models`` holds its catalogue entries, ``adapter`` translates jobs to its API, and ``emulator`` serves
that API on loopback for tests and offline runs.
"""
