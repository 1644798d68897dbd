//! Palisade outputs, each a pure function of the policy IR.
