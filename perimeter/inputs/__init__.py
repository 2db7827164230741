"""Where the scan's configuration items come from: files in every shape AWS's tools export, directories,
stdin, S3 prefixes, a Config aggregator. Each reader yields raw items one at a time; ``perimeter.scan``
normalises and judges them."""
