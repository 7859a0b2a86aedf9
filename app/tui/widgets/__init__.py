"""The trip screen's panes and the small widgets they are made of."""
