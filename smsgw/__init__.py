"""smsgw: the SMS command gateway of city paid parking."""
