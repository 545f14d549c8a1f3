package dev.unetlens.viz.grid;

/**
 * Which values the Auto transforms take their min and max from, in pictures with several maps (only the Auto
 * transforms depend on it; Linear and Sigmoid are the same function everywhere).
 */
public enum AutoScope {
    /** Each tile over its own range, as Dump U-Net colorizes one channel at a time: shows every tile's pattern,
     *  but equal colours in two tiles need not mean equal values. */
    TILE,
    /** One range over the whole map set (all channels of a grid, all pages; all steps of a strip): colours
     *  compare across tiles, and a colour bar gives their values. */
    SHARED
}
