import Foundation
import SparrowCLI

if let problem = unusableBLASCoreMessage() {
    FileHandle.standardError.write(Data("Error: \(problem)\n".utf8))
    exit(2)
}
Sparrow.main()
