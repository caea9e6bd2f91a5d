"""Linear models with an elastic-net penalty: the estimator, its path and CV."""
