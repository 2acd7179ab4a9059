"""Operations: the journal of every call to an outside system, and the workers' side of it."""
