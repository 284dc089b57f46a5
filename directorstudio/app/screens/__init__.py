"""The app's screens: sign-in, library, scene editor, clip jobs, conflict, queue, dialogs."""
