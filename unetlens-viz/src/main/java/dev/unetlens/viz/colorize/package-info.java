/**
 * Value → pixel: Dump U-Net's colorization ({@link dev.unetlens.viz.colorize.ValueTransform} "Auto [0,1]",
 * "Auto [-1,1]", "Linear", "Sigmoid"; {@link dev.unetlens.viz.colorize.ColorMethod} "White/Black", "Red/Blue",
 * "Custom" RGB or HSL) and the perceptually uniform colour maps viridis and magma, combined in a
 * {@link dev.unetlens.viz.colorize.Colorizer}.
 */
package dev.unetlens.viz.colorize;
