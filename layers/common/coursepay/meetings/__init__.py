"""Online meetings of paid bookings: the provider interface, the providers (a no-account room link, Zoom) and the
service the meetings consumer runs on ``booking.paid``."""
