"""Synth Studio."""
