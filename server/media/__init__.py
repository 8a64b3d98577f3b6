"""Live audio (aiortc): peer connections and per-room mixers, gated by the core's floor."""
