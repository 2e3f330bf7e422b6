"""Alibaba DashScope (Model Studio): an async header, a task id to poll, regional endpoints with their own
model names, and inputs the vendor fetches from public URLs.

``models`` holds its catalogue entries (``vace`` the VACE family's, which the offline preview shares),
``adapter`` translates jobs to its API, and ``emulator`` serves that API on loopback for tests and offline
runs.
"""
