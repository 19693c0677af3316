"""Local, faithful WooCommerce (wc/v3) and OfficeGuy API servers for the demo, tests and benchmarks."""
