// PLACEHOLDER (l9a): the integrator takes l9b's version of this file.
