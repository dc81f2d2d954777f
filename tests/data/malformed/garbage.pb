

ÿ garbage