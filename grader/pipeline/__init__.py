"""Host-side orchestration: staging, training and scoring children, results.

Never imported by worker/ or report/.
"""
