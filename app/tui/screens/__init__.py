"""The app's screens: first run, trip picker, trip, and the small modal ones."""
