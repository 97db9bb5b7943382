"""Tools the agents call: training runs, summarization, spelling correction."""
