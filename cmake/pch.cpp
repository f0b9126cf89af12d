// Compiles the precompiled header that every target of ours reuses.
