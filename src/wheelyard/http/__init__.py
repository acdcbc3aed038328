"""Request plumbing that api/ and web/ share: the transaction, security headers, allowed
hosts, conditional answers, the client's origin, the retry of a collided write."""
