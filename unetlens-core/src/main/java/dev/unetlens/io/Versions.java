package dev.unetlens.io;

/** Versions recorded in manifests. */
public final class Versions {
    public static final String UNETLENS = "0.1.0";
    public static final String DJL = "0.35.1";
    public static final String LIBTORCH = "2.7.1";

    private Versions() {
    }
}
