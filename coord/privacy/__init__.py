"""Personal data: erasing a contact everywhere their name, e-mail or phone was written, and the
retention of sent mails. It reaches into every domain that copies a contact's details."""
