package dev.unetlens.web;

/**
 * A request the server refuses, with its HTTP status and a one-line message naming the problem and what to do; the
 * server answers it as {@code {"error": message, "status": status}} (and {@code "field"} when one form field is wrong).
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String field;

    public ApiError(int status, String message, String field) {
        super(message);
        this.status = status;
        this.field = field;
    }

    public int status() {
        return status;
    }

    /** The request parameter or form field the message is about, or null. */
    public String field() {
        return field;
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, message, null);
    }

    public static ApiError badParameter(String field, String message) {
        return new ApiError(400, message, field);
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, message, null);
    }

    public static ApiError forbidden(String message) {
        return new ApiError(403, message, null);
    }

    public static ApiError conflict(String message) {
        return new ApiError(409, message, null);
    }

    /** 422: the run exists but cannot be read (a malformed or half-written directory, a corrupt file). */
    public static ApiError unreadable(String message) {
        return new ApiError(422, message, null);
    }
}
