"""The offline preview: renders on this machine, no network, no AI, free.

``models`` holds its catalogue entries, ``adapter`` files jobs and runs them in the background like a
vendor would, and ``render`` is the renderer itself.
"""
