module example.com/cancelflow-example

go 1.19
