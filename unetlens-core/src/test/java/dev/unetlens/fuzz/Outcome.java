package dev.unetlens.fuzz;

/** How one fuzz case ended. Only {@link #ACCEPTED} and {@link #REJECTED} pass. */
enum Outcome {
    /** Loaded, and what was loaded checked out. */
    ACCEPTED,
    /** Refused with the project's exception: one line under {@value CaseRunner#MAX_MESSAGE} characters naming a file of the case. */
    REJECTED,
    /** Refused with the project's exception, but the message is not one short line naming the file. */
    BAD_MESSAGE,
    /** Loaded, but what was loaded is wrong (an integer dtype, a wrong shape, a forward pass that fails). */
    BAD_ACCEPT,
    /** Another exception: a bug (NumberFormatException, ArrayIndexOutOfBounds, a raw engine error...). */
    OTHER_EXCEPTION,
    /** An Error: OutOfMemoryError, StackOverflowError... */
    ERROR,
    /** Still running after the per-case timeout. */
    HANG;

    boolean passed() {
        return this == ACCEPTED || this == REJECTED;
    }
}
