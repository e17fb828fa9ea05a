"""The site's shell: what makes it installable and findable on a phone's home screen (favicon,
web app manifest, the service worker and its offline page) and the header's most used links."""
