"""The Gibbs samplers: one module per model, on one shared chain machinery.

:mod:`hierlib.gibbs` is the public face (``gibbs.hierarchical_normal``,
``gibbs.unequal_variances``, ``gibbs.Posterior``, ...); this package is how the samplers are
built, each idea in one module:

- :mod:`~hierlib.samplers.hierarchical_normal` -- model 1 (equal variances) in its three
  parameterisations: its prepare step, its compiled sweep and the numpy reference sweep, and
  the :class:`~hierlib.samplers._posterior.Posterior` it returns.
- :mod:`~hierlib.samplers.unequal_variances` -- model 2 (a variance per group): the same.
- :mod:`~hierlib.samplers.mixed_model` -- the linear mixed model (varying intercepts and
  slopes, predictors at both levels) on per-group cross-products: its prepare step, its
  blocked, interweaved and collapsed sweeps, and its
  :class:`~hierlib.samplers.mixed_model.MixedPosterior`.
- :mod:`~hierlib.samplers._chains` -- the chain machinery every model shares: one
  ``SeedSequence`` stream per chain, chains on threads, the memory guard on the kept draws,
  warm-up then sampling in chunks, the progress bar, the errors of a sweep that stopped,
  running means and sds.
- :mod:`~hierlib.samplers._inputs` -- the checks of what the normal-model samplers are
  given (the rows or ``stats=``, the prior, ``keep_theta``, the floating-point range) and
  their dispersed starting values.
- :mod:`~hierlib.samplers._kernels` -- what the compiled sweeps are built from: numba with an
  on-disk cache, normal and gamma draws, the bounded slice sampler (and the numpy draws of
  the reference sweeps).
- :mod:`~hierlib.samplers._posterior` -- :class:`Posterior`, what every sampler returns.

**Adding a model** (say ``mixed_model``, varying intercepts and slopes on per-school
sufficient statistics) is one new module, ``samplers/mixed_model.py``, and one line in
:mod:`hierlib.gibbs` (the import, and the module in ``gibbs.MODELS`` so that
``gibbs.warm_up`` compiles it). The module checks its input (reusing
:func:`_chains.check_run`, :func:`_inputs.check_prior` and :func:`_inputs.keep_indices`
where they fit) and reduces the data to the statistics its sweep needs; writes its sweep with
``_kernels.njit(cache=True, nogil=True)`` as ``sweeps(rng, <statistics>, hyper, state, ...,
n_iter, start, keep, <outputs>, acc)``, which draws only through ``rng``, keeps nothing
while ``start < 0`` (warm-up) and bounds every loop; calls :func:`_chains.check_memory`
before it allocates the kept draws; and hands :func:`_chains.run_chains` an
``init_chain(c, rng, acc_c)`` that draws chain ``c``'s starting values from ``rng`` and
returns ``step(n_iter, start)``. ``run_chains`` seeds the chains, runs warm-up and sampling in
chunks on threads with a progress bar and sums the running moments; the module wraps its
sweep in :func:`_chains.guarded`, checks :func:`_chains.check_finite`, returns a
:class:`Posterior` (or a subclass with the model's own fields) and has a ``warm_up()``.
The shared modules never import a model module and the model modules never import one
another, so every model sits on the same layer.

This ``__init__`` imports nothing: importing one model does not import the others, and
``hierlib.samplers.hierarchical_normal`` stays the module (not the function of that name).
"""
