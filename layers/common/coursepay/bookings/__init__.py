"""Tutoring marketplace: teachers' gigs (bookable offers). Booking, confirmation and payment of a gig
come with the tutoring issue; the catalogue of gigs is here."""
