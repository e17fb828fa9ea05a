"""Events: sign-ups with a waitlist, QR check-in and check-out, volunteer hours, star levels."""
