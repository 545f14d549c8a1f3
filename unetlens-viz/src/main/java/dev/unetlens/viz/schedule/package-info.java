/**
 * Charts of a sampling schedule ({@link dev.unetlens.pipeline.ScheduleTable}): timesteps, noise levels σ and ᾱ per
 * U-Net evaluation, and the training schedule ᾱ_t with a run's timesteps marked.
 */
package dev.unetlens.viz.schedule;
