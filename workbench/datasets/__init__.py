"""Generated datasets: a trace generator, fault injection with labels, evaluation, Parquet."""
