"""The rules of SUPPORT-TERMS.md as pure functions and values.

Nothing in this package touches the clock, a file, a socket, the environment or a database:
every input (the time, contracts, the calendar, today's usage) is a parameter.
"""
