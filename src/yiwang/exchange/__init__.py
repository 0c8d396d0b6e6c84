"""Exchange: the one Excel import/export engine every registry declares its sheets to."""
