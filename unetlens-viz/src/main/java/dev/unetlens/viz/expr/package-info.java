/**
 * The colour-expression language of the Custom colorization: a small grammar of numbers, {@code v}, + − × ÷ and a
 * fixed set of functions, parsed into a tree and evaluated per pixel; never code. Errors name the column.
 */
package dev.unetlens.viz.expr;
