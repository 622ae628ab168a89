# Marks priors/ as the package bayes_cmo.data.priors (see pyproject.toml), so
# the shipped priors are found with importlib.resources after any install.
