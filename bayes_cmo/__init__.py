"""bayes_cmo: a realist programme theory as a discrete Bayesian network."""

__version__ = "0.1.0"
