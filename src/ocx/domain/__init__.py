"""Domain services: the rules of OCX, between the API and persistence/drivers."""
