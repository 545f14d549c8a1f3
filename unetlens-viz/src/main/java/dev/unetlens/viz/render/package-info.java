/**
 * Drawing shared by every picture: fonts, margins, title blocks, panel layouts, colour bars with nice ticks.
 */
package dev.unetlens.viz.render;
