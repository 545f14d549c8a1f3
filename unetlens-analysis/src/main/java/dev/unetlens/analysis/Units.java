package dev.unetlens.analysis;

/** The units results.json and the axis labels state. */
public final class Units {
    /** A module's output values: the U-Net's own scale, with no physical unit. */
    public static final String ACTIVATION = "activation (the module's output scale, dimensionless)";
    public static final String TIMESTEP = "DDPM timestep t in [0, 999]";
    public static final String RATIO = "ratio (dimensionless)";
    public static final String CHANNELS = "channels";
    public static final String SIMILARITY = "similarity (dimensionless, in [-1, 1])";

    private Units() {
    }
}
