"""The gradient oracles: one module per kata, each rebuilding that kata's computation in PyTorch
(float64) and returning values and gradients. Specs compare learners' numbers with these, never with
the reference solutions. One module per kata so a spec imports only what it needs (sympy, say).
"""
