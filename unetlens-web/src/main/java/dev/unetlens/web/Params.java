package dev.unetlens.web;

import io.javalin.http.Context;

import java.util.ArrayList;
import java.util.List;

/** Query parameters, checked: a missing or malformed one is a 400 naming it, never an exception trace. */
public final class Params {
    /** The longest text any parameter may have (module paths, expressions, run ids). */
    public static final int MAX_LENGTH = 1000;

    private Params() {
    }

    public static String text(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) {
            throw ApiError.badParameter(name, "parameter '" + name + "' is missing");
        }
        return bounded(name, v);
    }

    public static String text(Context ctx, String name, String fallback) {
        String v = ctx.queryParam(name);
        return v == null || v.isEmpty() ? fallback : bounded(name, v);
    }

    private static String bounded(String name, String v) {
        if (v.length() > MAX_LENGTH) {
            throw ApiError.badParameter(name, "parameter '" + name + "' is longer than " + MAX_LENGTH + " characters");
        }
        if (v.chars().anyMatch(c -> c < 0x20 && c != '\t')) {
            throw ApiError.badParameter(name, "parameter '" + name + "' holds control characters");
        }
        return v;
    }

    /** An integer in [min, max]. */
    public static int integer(Context ctx, String name, int min, int max) {
        return parse(name, text(ctx, name), min, max);
    }

    public static int integer(Context ctx, String name, int min, int max, int fallback) {
        String v = ctx.queryParam(name);
        return v == null || v.isEmpty() ? fallback : parse(name, bounded(name, v), min, max);
    }

    /** Checks an integer against [min, max], naming the parameter. */
    public static int check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw ApiError.badParameter(name, "parameter '" + name + "' must be in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    private static int parse(String name, String v, int min, int max) {
        try {
            return check(name, Integer.parseInt(v.strip()), min, max);
        } catch (NumberFormatException e) {
            throw ApiError.badParameter(name, "parameter '" + name + "' must be an integer, got '" + v + "'");
        }
    }

    /** A comma-separated list of integers in [min, max] (ranges a-b allowed); empty when absent. */
    public static List<Integer> integers(Context ctx, String name, int min, int max) {
        String v = text(ctx, name, "");
        List<Integer> out = new ArrayList<>();
        if (v.isBlank() || v.equals("all")) {
            return out;
        }
        for (String part : v.split(",")) {
            String[] ab = part.strip().split("-", -1);
            if (ab.length > 2) {
                throw ApiError.badParameter(name, "parameter '" + name + "' takes numbers and ranges like 0-3,7, got '" + v + "'");
            }
            int a = parse(name, ab[0], min, max);
            int b = ab.length == 2 ? parse(name, ab[1], min, max) : a;
            if (b < a || b - a > 100_000) {
                throw ApiError.badParameter(name, "parameter '" + name + "': range " + part.strip() + " runs backwards or is too long");
            }
            for (int i = a; i <= b; i++) {
                out.add(i);
            }
        }
        return out;
    }

    /** One of the given choices (case-insensitive). */
    public static String choice(Context ctx, String name, String fallback, String... choices) {
        String v = text(ctx, name, fallback).toLowerCase(java.util.Locale.ROOT);
        for (String c : choices) {
            if (c.equals(v)) {
                return c;
            }
        }
        throw ApiError.badParameter(name, "parameter '" + name + "' must be one of " + String.join(", ", choices)
                + ", got '" + v + "'");
    }
}
