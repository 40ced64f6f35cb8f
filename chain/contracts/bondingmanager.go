// Code generated - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = errors.New
	_ = big.NewInt
	_ = strings.NewReader
	_ = ethereum.NotFound
	_ = bind.Bind
	_ = common.Big1
	_ = types.BloomLookup
	_ = event.NewSubscription
	_ = abi.ConvertType
	_ = time.Tick
	_ = context.Background
)

// BondingManagerMetaData contains all meta data concerning the BondingManager contract.
var BondingManagerMetaData = &bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"controllerAddress\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"active\",\"type\":\"bool\"}],\"name\":\"TranscoderActivated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"poolSize\",\"type\":\"uint256\"}],\"name\":\"TranscoderPoolSizeSet\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"registered\",\"type\":\"bool\"}],\"name\":\"TranscoderRegistered\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"FIRST_FEES_OF_ROUND_GAS\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"controller\",\"outputs\":[{\"internalType\":\"contractIController\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"getTranscoderPoolSize\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"}],\"name\":\"isActiveTranscoder\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"}],\"name\":\"isRegisteredTranscoder\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"delegator\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"endRound\",\"type\":\"uint256\"}],\"name\":\"pendingFees\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"internalType\":\"bool\",\"name\":\"isActive\",\"type\":\"bool\"}],\"name\":\"setActiveTranscoder\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"internalType\":\"bool\",\"name\":\"isRegistered\",\"type\":\"bool\"}],\"name\":\"setRegisteredTranscoder\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"size\",\"type\":\"uint256\"}],\"name\":\"setTranscoderPoolSize\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"transcoder\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"round\",\"type\":\"uint256\"}],\"name\":\"updateTranscoderWithFees\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	Bin: "0x60e060405234801561000f575f5ffd5b50604051610c38380380610c3883398101604081905261002e9161010e565b33608052806001600160a01b0381166100835760405162461bcd60e51b8152602060048201526012602482015271636f6e74726f6c6c6572206973207a65726f60701b60448201526064015b60405180910390fd5b6001600160a01b031660a0526960fe60005360016000f35f908152600a601682f090506001600160a01b0381166100fc5760405162461bcd60e51b815260206004820152601460248201527f6761732073696e6b206e6f742063726561746564000000000000000000000000604482015260640161007a565b6001600160a01b031660c0525061013b565b5f6020828403121561011e575f5ffd5b81516001600160a01b0381168114610134575f5ffd5b9392505050565b60805160a05160c051610aa961018f5f395f61075701525f81816101da0152818161028a0152818161037d01526106b401525f818161017501528181610207015281816105a101526106080152610aa95ff3fe608060405234801561000f575f5ffd5b50600436106100a6575f3560e01c80634a3879ed1161006e5780634a3879ed1461013257806368ba170c146101455780638da5cb5b14610170578063b376f53b146101af578063f595f1cc146101c2578063f77c4791146101d5575f5ffd5b806304787546146100aa57806308802374146100c75780631a175746146101025780632a4e0d55146101175780633aeb512c1461011f575b5f5ffd5b6100b46204abe681565b6040519081526020015b60405180910390f35b6100f26100d53660046108f3565b6001600160a01b03165f9081526001602052604090205460ff1690565b60405190151581526020016100be565b610115610110366004610915565b6101fc565b005b6002546100b4565b61011561012d36600461092c565b610288565b61011561014036600461096b565b610596565b6100f26101533660046108f3565b6001600160a01b03165f9081526020819052604090205460ff1690565b6101977f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100be565b6101156101bd36600461096b565b6105fd565b6100b46101d03660046109a2565b61065e565b6101977f000000000000000000000000000000000000000000000000000000000000000081565b336001600160a01b037f0000000000000000000000000000000000000000000000000000000000000000161461024d5760405162461bcd60e51b8152600401610244906109cc565b60405180910390fd5b60028190556040518181527f31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe9060200160405180910390a150565b7f00000000000000000000000000000000000000000000000000000000000000006001600160a01b0316635c975abb6040518163ffffffff1660e01b8152600401602060405180830381865afa1580156102e4573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906103089190610a03565b156103485760405162461bcd60e51b815260206004820152601060248201526f1cde5cdd195b481a5cc81c185d5cd95960821b6044820152606401610244565b604051631c2d8fb360e31b81527fbd1aa3e8d2464256d7fd3dcf645c16418d5d8c51d971f1ad7d57e7b1b5eee23960048201527f00000000000000000000000000000000000000000000000000000000000000006001600160a01b03169063e16c7d9890602401602060405180830381865afa1580156103ca573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906103ee9190610a1e565b6001600160a01b0316336001600160a01b03161461044e5760405162461bcd60e51b815260206004820152601b60248201527f63616c6c6572206d757374206265205469636b657442726f6b657200000000006044820152606401610244565b6001600160a01b0383165f9081526020819052604090205460ff166104b55760405162461bcd60e51b815260206004820152601d60248201527f7472616e73636f646572206d75737420626520726567697374657265640000006044820152606401610244565b5f6104be61067d565b6001600160a01b0316638a19c8bc6040518163ffffffff1660e01b8152600401602060405180830381865afa1580156104f9573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061051d9190610a39565b6001600160a01b0385165f908152600460205260409020549091508114610564576001600160a01b0384165f9081526004602052604090208190556105646204abe661072a565b6001600160a01b0384165f908152600360205260408120805485929061058b908490610a64565b909155505050505050565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146105de5760405162461bcd60e51b8152600401610244906109cc565b80156105ef576105ef826001610783565b6105f9828261080b565b5050565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146106455760405162461bcd60e51b8152600401610244906109cc565b8061065457610654825f61080b565b6105f98282610783565b6001600160a01b0382165f908152600360205260409020545b92915050565b604051631c2d8fb360e31b81527fe8438ea868df48e3fc21f2f087b993c9b1837dc0f6135064161ce7d7a1701fe860048201525f907f00000000000000000000000000000000000000000000000000000000000000006001600160a01b03169063e16c7d9890602401602060405180830381865afa158015610701573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906107259190610a1e565b905090565b611388610738603f83610a77565b6107429083610a64565b61074c9190610a64565b5a101561075557fe5b7f00000000000000000000000000000000000000000000000000000000000000005f808080808587f1505050565b6001600160a01b0382165f9081526020819052604090205481151560ff9091161515036107ae575050565b6001600160a01b0382165f8181526020818152604091829020805460ff191685151590811790915591519182527f5452a54f502ac6d388d5f2e8d9f9db17ff79f68a4f4657efdc22919426c4f72891015b60405180910390a25050565b6001600160a01b0382165f9081526001602052604090205481151560ff909116151503610836575050565b6001600160a01b0382165f908152600160205260409020805460ff1916821580159190911790915561087f57600160025f8282546108749190610a64565b9091555061089f9050565b6002541561089f57600160025f8282546108999190610a96565b90915550505b816001600160a01b03167fc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18826040516107ff911515815260200190565b6001600160a01b03811681146108f0575f5ffd5b50565b5f60208284031215610903575f5ffd5b813561090e816108dc565b9392505050565b5f60208284031215610925575f5ffd5b5035919050565b5f5f5f6060848603121561093e575f5ffd5b8335610949816108dc565b95602085013595506040909401359392505050565b80151581146108f0575f5ffd5b5f5f6040838503121561097c575f5ffd5b8235610987816108dc565b915060208301356109978161095e565b809150509250929050565b5f5f604083850312156109b3575f5ffd5b82356109be816108dc565b946020939093013593505050565b60208082526017908201527f63616c6c6572206973206e6f7420746865206f776e6572000000000000000000604082015260600190565b5f60208284031215610a13575f5ffd5b815161090e8161095e565b5f60208284031215610a2e575f5ffd5b815161090e816108dc565b5f60208284031215610a49575f5ffd5b5051919050565b634e487b7160e01b5f52601160045260245ffd5b8082018082111561067757610677610a50565b5f82610a9157634e487b7160e01b5f52601260045260245ffd5b500490565b8181038181111561067757610677610a5056",
}

// BondingManagerABI is the input ABI used to generate the binding from.
// Deprecated: Use BondingManagerMetaData.ABI instead.
var BondingManagerABI = BondingManagerMetaData.ABI

// BondingManagerBin is the compiled bytecode used for deploying new contracts.
// Deprecated: Use BondingManagerMetaData.Bin instead.
var BondingManagerBin = BondingManagerMetaData.Bin

// DeployBondingManager deploys a new Ethereum contract, binding an instance of BondingManager to it.
func DeployBondingManager(auth *bind.TransactOpts, backend bind.ContractBackend, controllerAddress common.Address) (common.Address, *types.Transaction, *BondingManager, error) {
	parsed, err := BondingManagerMetaData.GetAbi()
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	if parsed == nil {
		return common.Address{}, nil, nil, errors.New("GetABI returned nil")
	}

	address, tx, contract, err := bind.DeployContract(auth, *parsed, common.FromHex(BondingManagerBin), backend, controllerAddress)
	if err != nil {
		return common.Address{}, nil, nil, err
	}
	return address, tx, &BondingManager{BondingManagerCaller: BondingManagerCaller{contract: contract}, BondingManagerTransactor: BondingManagerTransactor{contract: contract}, BondingManagerFilterer: BondingManagerFilterer{contract: contract}}, nil
}

// BondingManager is an auto generated Go binding around an Ethereum contract.
type BondingManager struct {
	BondingManagerCaller     // Read-only binding to the contract
	BondingManagerTransactor // Write-only binding to the contract
	BondingManagerFilterer   // Log filterer for contract events
}

// BondingManagerCaller is an auto generated read-only Go binding around an Ethereum contract.
type BondingManagerCaller struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerTransactor is an auto generated write-only Go binding around an Ethereum contract.
type BondingManagerTransactor struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerFilterer is an auto generated log filtering Go binding around an Ethereum contract events.
type BondingManagerFilterer struct {
	contract *bind.BoundContract // Generic contract wrapper for the low level calls
}

// BondingManagerSession is an auto generated Go binding around an Ethereum contract,
// with pre-set call and transact options.
type BondingManagerSession struct {
	Contract     *BondingManager   // Generic contract binding to set the session for
	CallOpts     bind.CallOpts     // Call options to use throughout this session
	TransactOpts bind.TransactOpts // Transaction auth options to use throughout this session
}

// BondingManagerCallerSession is an auto generated read-only Go binding around an Ethereum contract,
// with pre-set call options.
type BondingManagerCallerSession struct {
	Contract *BondingManagerCaller // Generic contract caller binding to set the session for
	CallOpts bind.CallOpts         // Call options to use throughout this session
}

// BondingManagerTransactorSession is an auto generated write-only Go binding around an Ethereum contract,
// with pre-set transact options.
type BondingManagerTransactorSession struct {
	Contract     *BondingManagerTransactor // Generic contract transactor binding to set the session for
	TransactOpts bind.TransactOpts         // Transaction auth options to use throughout this session
}

// BondingManagerRaw is an auto generated low-level Go binding around an Ethereum contract.
type BondingManagerRaw struct {
	Contract *BondingManager // Generic contract binding to access the raw methods on
}

// BondingManagerCallerRaw is an auto generated low-level read-only Go binding around an Ethereum contract.
type BondingManagerCallerRaw struct {
	Contract *BondingManagerCaller // Generic read-only contract binding to access the raw methods on
}

// BondingManagerTransactorRaw is an auto generated low-level write-only Go binding around an Ethereum contract.
type BondingManagerTransactorRaw struct {
	Contract *BondingManagerTransactor // Generic write-only contract binding to access the raw methods on
}

// NewBondingManager creates a new instance of BondingManager, bound to a specific deployed contract.
func NewBondingManager(address common.Address, backend bind.ContractBackend) (*BondingManager, error) {
	contract, err := bindBondingManager(address, backend, backend, backend)
	if err != nil {
		return nil, err
	}
	return &BondingManager{BondingManagerCaller: BondingManagerCaller{contract: contract}, BondingManagerTransactor: BondingManagerTransactor{contract: contract}, BondingManagerFilterer: BondingManagerFilterer{contract: contract}}, nil
}

// NewBondingManagerCaller creates a new read-only instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerCaller(address common.Address, caller bind.ContractCaller) (*BondingManagerCaller, error) {
	contract, err := bindBondingManager(address, caller, nil, nil)
	if err != nil {
		return nil, err
	}
	return &BondingManagerCaller{contract: contract}, nil
}

// NewBondingManagerTransactor creates a new write-only instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerTransactor(address common.Address, transactor bind.ContractTransactor) (*BondingManagerTransactor, error) {
	contract, err := bindBondingManager(address, nil, transactor, nil)
	if err != nil {
		return nil, err
	}
	return &BondingManagerTransactor{contract: contract}, nil
}

// NewBondingManagerFilterer creates a new log filterer instance of BondingManager, bound to a specific deployed contract.
func NewBondingManagerFilterer(address common.Address, filterer bind.ContractFilterer) (*BondingManagerFilterer, error) {
	contract, err := bindBondingManager(address, nil, nil, filterer)
	if err != nil {
		return nil, err
	}
	return &BondingManagerFilterer{contract: contract}, nil
}

// bindBondingManager binds a generic wrapper to an already deployed contract.
func bindBondingManager(address common.Address, caller bind.ContractCaller, transactor bind.ContractTransactor, filterer bind.ContractFilterer) (*bind.BoundContract, error) {
	parsed, err := BondingManagerMetaData.GetAbi()
	if err != nil {
		return nil, err
	}
	return bind.NewBoundContract(address, *parsed, caller, transactor, filterer), nil
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BondingManager *BondingManagerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BondingManager.Contract.BondingManagerCaller.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BondingManager *BondingManagerRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BondingManager.Contract.BondingManagerTransactor.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BondingManager *BondingManagerRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BondingManager.Contract.BondingManagerTransactor.contract.Transact(opts, method, params...)
}

// Call invokes the (constant) contract method with params as input values and
// sets the output to result. The result type might be a single field for simple
// returns, a slice of interfaces for anonymous returns and a struct for named
// returns.
func (_BondingManager *BondingManagerCallerRaw) Call(opts *bind.CallOpts, result *[]interface{}, method string, params ...interface{}) error {
	return _BondingManager.Contract.contract.Call(opts, result, method, params...)
}

// Transfer initiates a plain transaction to move funds to the contract, calling
// its default method if one is available.
func (_BondingManager *BondingManagerTransactorRaw) Transfer(opts *bind.TransactOpts) (*types.Transaction, error) {
	return _BondingManager.Contract.contract.Transfer(opts)
}

// Transact invokes the (paid) contract method with params as input values.
func (_BondingManager *BondingManagerTransactorRaw) Transact(opts *bind.TransactOpts, method string, params ...interface{}) (*types.Transaction, error) {
	return _BondingManager.Contract.contract.Transact(opts, method, params...)
}

// FIRSTFEESOFROUNDGAS is a free data retrieval call binding the contract method 0x04787546.
//
// Solidity: function FIRST_FEES_OF_ROUND_GAS() view returns(uint256)
func (_BondingManager *BondingManagerCaller) FIRSTFEESOFROUNDGAS(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "FIRST_FEES_OF_ROUND_GAS")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// FIRSTFEESOFROUNDGAS is a free data retrieval call binding the contract method 0x04787546.
//
// Solidity: function FIRST_FEES_OF_ROUND_GAS() view returns(uint256)
func (_BondingManager *BondingManagerSession) FIRSTFEESOFROUNDGAS() (*big.Int, error) {
	return _BondingManager.Contract.FIRSTFEESOFROUNDGAS(&_BondingManager.CallOpts)
}

// FIRSTFEESOFROUNDGAS is a free data retrieval call binding the contract method 0x04787546.
//
// Solidity: function FIRST_FEES_OF_ROUND_GAS() view returns(uint256)
func (_BondingManager *BondingManagerCallerSession) FIRSTFEESOFROUNDGAS() (*big.Int, error) {
	return _BondingManager.Contract.FIRSTFEESOFROUNDGAS(&_BondingManager.CallOpts)
}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_BondingManager *BondingManagerCaller) Controller(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "controller")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_BondingManager *BondingManagerSession) Controller() (common.Address, error) {
	return _BondingManager.Contract.Controller(&_BondingManager.CallOpts)
}

// Controller is a free data retrieval call binding the contract method 0xf77c4791.
//
// Solidity: function controller() view returns(address)
func (_BondingManager *BondingManagerCallerSession) Controller() (common.Address, error) {
	return _BondingManager.Contract.Controller(&_BondingManager.CallOpts)
}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerCaller) GetTranscoderPoolSize(opts *bind.CallOpts) (*big.Int, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "getTranscoderPoolSize")

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerSession) GetTranscoderPoolSize() (*big.Int, error) {
	return _BondingManager.Contract.GetTranscoderPoolSize(&_BondingManager.CallOpts)
}

// GetTranscoderPoolSize is a free data retrieval call binding the contract method 0x2a4e0d55.
//
// Solidity: function getTranscoderPoolSize() view returns(uint256)
func (_BondingManager *BondingManagerCallerSession) GetTranscoderPoolSize() (*big.Int, error) {
	return _BondingManager.Contract.GetTranscoderPoolSize(&_BondingManager.CallOpts)
}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCaller) IsActiveTranscoder(opts *bind.CallOpts, transcoder common.Address) (bool, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "isActiveTranscoder", transcoder)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerSession) IsActiveTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsActiveTranscoder(&_BondingManager.CallOpts, transcoder)
}

// IsActiveTranscoder is a free data retrieval call binding the contract method 0x08802374.
//
// Solidity: function isActiveTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCallerSession) IsActiveTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsActiveTranscoder(&_BondingManager.CallOpts, transcoder)
}

// IsRegisteredTranscoder is a free data retrieval call binding the contract method 0x68ba170c.
//
// Solidity: function isRegisteredTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCaller) IsRegisteredTranscoder(opts *bind.CallOpts, transcoder common.Address) (bool, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "isRegisteredTranscoder", transcoder)

	if err != nil {
		return *new(bool), err
	}

	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)

	return out0, err

}

// IsRegisteredTranscoder is a free data retrieval call binding the contract method 0x68ba170c.
//
// Solidity: function isRegisteredTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerSession) IsRegisteredTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsRegisteredTranscoder(&_BondingManager.CallOpts, transcoder)
}

// IsRegisteredTranscoder is a free data retrieval call binding the contract method 0x68ba170c.
//
// Solidity: function isRegisteredTranscoder(address transcoder) view returns(bool)
func (_BondingManager *BondingManagerCallerSession) IsRegisteredTranscoder(transcoder common.Address) (bool, error) {
	return _BondingManager.Contract.IsRegisteredTranscoder(&_BondingManager.CallOpts, transcoder)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerCaller) Owner(opts *bind.CallOpts) (common.Address, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "owner")

	if err != nil {
		return *new(common.Address), err
	}

	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)

	return out0, err

}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerSession) Owner() (common.Address, error) {
	return _BondingManager.Contract.Owner(&_BondingManager.CallOpts)
}

// Owner is a free data retrieval call binding the contract method 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (_BondingManager *BondingManagerCallerSession) Owner() (common.Address, error) {
	return _BondingManager.Contract.Owner(&_BondingManager.CallOpts)
}

// PendingFees is a free data retrieval call binding the contract method 0xf595f1cc.
//
// Solidity: function pendingFees(address delegator, uint256 endRound) view returns(uint256)
func (_BondingManager *BondingManagerCaller) PendingFees(opts *bind.CallOpts, delegator common.Address, endRound *big.Int) (*big.Int, error) {
	var out []interface{}
	err := _BondingManager.contract.Call(opts, &out, "pendingFees", delegator, endRound)

	if err != nil {
		return *new(*big.Int), err
	}

	out0 := *abi.ConvertType(out[0], new(*big.Int)).(**big.Int)

	return out0, err

}

// PendingFees is a free data retrieval call binding the contract method 0xf595f1cc.
//
// Solidity: function pendingFees(address delegator, uint256 endRound) view returns(uint256)
func (_BondingManager *BondingManagerSession) PendingFees(delegator common.Address, endRound *big.Int) (*big.Int, error) {
	return _BondingManager.Contract.PendingFees(&_BondingManager.CallOpts, delegator, endRound)
}

// PendingFees is a free data retrieval call binding the contract method 0xf595f1cc.
//
// Solidity: function pendingFees(address delegator, uint256 endRound) view returns(uint256)
func (_BondingManager *BondingManagerCallerSession) PendingFees(delegator common.Address, endRound *big.Int) (*big.Int, error) {
	return _BondingManager.Contract.PendingFees(&_BondingManager.CallOpts, delegator, endRound)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerTransactor) SetActiveTranscoder(opts *bind.TransactOpts, transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "setActiveTranscoder", transcoder, isActive)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerSession) SetActiveTranscoder(transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetActiveTranscoder(&_BondingManager.TransactOpts, transcoder, isActive)
}

// SetActiveTranscoder is a paid mutator transaction binding the contract method 0x4a3879ed.
//
// Solidity: function setActiveTranscoder(address transcoder, bool isActive) returns()
func (_BondingManager *BondingManagerTransactorSession) SetActiveTranscoder(transcoder common.Address, isActive bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetActiveTranscoder(&_BondingManager.TransactOpts, transcoder, isActive)
}

// SetRegisteredTranscoder is a paid mutator transaction binding the contract method 0xb376f53b.
//
// Solidity: function setRegisteredTranscoder(address transcoder, bool isRegistered) returns()
func (_BondingManager *BondingManagerTransactor) SetRegisteredTranscoder(opts *bind.TransactOpts, transcoder common.Address, isRegistered bool) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "setRegisteredTranscoder", transcoder, isRegistered)
}

// SetRegisteredTranscoder is a paid mutator transaction binding the contract method 0xb376f53b.
//
// Solidity: function setRegisteredTranscoder(address transcoder, bool isRegistered) returns()
func (_BondingManager *BondingManagerSession) SetRegisteredTranscoder(transcoder common.Address, isRegistered bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetRegisteredTranscoder(&_BondingManager.TransactOpts, transcoder, isRegistered)
}

// SetRegisteredTranscoder is a paid mutator transaction binding the contract method 0xb376f53b.
//
// Solidity: function setRegisteredTranscoder(address transcoder, bool isRegistered) returns()
func (_BondingManager *BondingManagerTransactorSession) SetRegisteredTranscoder(transcoder common.Address, isRegistered bool) (*types.Transaction, error) {
	return _BondingManager.Contract.SetRegisteredTranscoder(&_BondingManager.TransactOpts, transcoder, isRegistered)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerTransactor) SetTranscoderPoolSize(opts *bind.TransactOpts, size *big.Int) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "setTranscoderPoolSize", size)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerSession) SetTranscoderPoolSize(size *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.SetTranscoderPoolSize(&_BondingManager.TransactOpts, size)
}

// SetTranscoderPoolSize is a paid mutator transaction binding the contract method 0x1a175746.
//
// Solidity: function setTranscoderPoolSize(uint256 size) returns()
func (_BondingManager *BondingManagerTransactorSession) SetTranscoderPoolSize(size *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.SetTranscoderPoolSize(&_BondingManager.TransactOpts, size)
}

// UpdateTranscoderWithFees is a paid mutator transaction binding the contract method 0x3aeb512c.
//
// Solidity: function updateTranscoderWithFees(address transcoder, uint256 amount, uint256 round) returns()
func (_BondingManager *BondingManagerTransactor) UpdateTranscoderWithFees(opts *bind.TransactOpts, transcoder common.Address, amount *big.Int, round *big.Int) (*types.Transaction, error) {
	return _BondingManager.contract.Transact(opts, "updateTranscoderWithFees", transcoder, amount, round)
}

// UpdateTranscoderWithFees is a paid mutator transaction binding the contract method 0x3aeb512c.
//
// Solidity: function updateTranscoderWithFees(address transcoder, uint256 amount, uint256 round) returns()
func (_BondingManager *BondingManagerSession) UpdateTranscoderWithFees(transcoder common.Address, amount *big.Int, round *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.UpdateTranscoderWithFees(&_BondingManager.TransactOpts, transcoder, amount, round)
}

// UpdateTranscoderWithFees is a paid mutator transaction binding the contract method 0x3aeb512c.
//
// Solidity: function updateTranscoderWithFees(address transcoder, uint256 amount, uint256 round) returns()
func (_BondingManager *BondingManagerTransactorSession) UpdateTranscoderWithFees(transcoder common.Address, amount *big.Int, round *big.Int) (*types.Transaction, error) {
	return _BondingManager.Contract.UpdateTranscoderWithFees(&_BondingManager.TransactOpts, transcoder, amount, round)
}

// BondingManagerTranscoderActivatedIterator is returned from FilterTranscoderActivated and is used to iterate over the raw logs and unpacked data for TranscoderActivated events raised by the BondingManager contract.
type BondingManagerTranscoderActivatedIterator struct {
	Event *BondingManagerTranscoderActivated // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BondingManagerTranscoderActivatedIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BondingManagerTranscoderActivated)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BondingManagerTranscoderActivated)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BondingManagerTranscoderActivatedIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BondingManagerTranscoderActivatedIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BondingManagerTranscoderActivated represents a TranscoderActivated event raised by the BondingManager contract.
type BondingManagerTranscoderActivated struct {
	Transcoder common.Address
	Active     bool
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterTranscoderActivated is a free log retrieval operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) FilterTranscoderActivated(opts *bind.FilterOpts, transcoder []common.Address) (*BondingManagerTranscoderActivatedIterator, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.FilterLogs(opts, "TranscoderActivated", transcoderRule)
	if err != nil {
		return nil, err
	}
	return &BondingManagerTranscoderActivatedIterator{contract: _BondingManager.contract, event: "TranscoderActivated", logs: logs, sub: sub}, nil
}

// WatchTranscoderActivated is a free log subscription operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) WatchTranscoderActivated(opts *bind.WatchOpts, sink chan<- *BondingManagerTranscoderActivated, transcoder []common.Address) (event.Subscription, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.WatchLogs(opts, "TranscoderActivated", transcoderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BondingManagerTranscoderActivated)
				if err := _BondingManager.contract.UnpackLog(event, "TranscoderActivated", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseTranscoderActivated is a log parse operation binding the contract event 0xc2332d2ebda017d2abb3de1f3bfb187112713d1ff423f0a8e1c96ec1927acf18.
//
// Solidity: event TranscoderActivated(address indexed transcoder, bool active)
func (_BondingManager *BondingManagerFilterer) ParseTranscoderActivated(log types.Log) (*BondingManagerTranscoderActivated, error) {
	event := new(BondingManagerTranscoderActivated)
	if err := _BondingManager.contract.UnpackLog(event, "TranscoderActivated", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// BondingManagerTranscoderPoolSizeSetIterator is returned from FilterTranscoderPoolSizeSet and is used to iterate over the raw logs and unpacked data for TranscoderPoolSizeSet events raised by the BondingManager contract.
type BondingManagerTranscoderPoolSizeSetIterator struct {
	Event *BondingManagerTranscoderPoolSizeSet // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BondingManagerTranscoderPoolSizeSet)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BondingManagerTranscoderPoolSizeSet)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BondingManagerTranscoderPoolSizeSetIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BondingManagerTranscoderPoolSizeSet represents a TranscoderPoolSizeSet event raised by the BondingManager contract.
type BondingManagerTranscoderPoolSizeSet struct {
	PoolSize *big.Int
	Raw      types.Log // Blockchain specific contextual infos
}

// FilterTranscoderPoolSizeSet is a free log retrieval operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) FilterTranscoderPoolSizeSet(opts *bind.FilterOpts) (*BondingManagerTranscoderPoolSizeSetIterator, error) {

	logs, sub, err := _BondingManager.contract.FilterLogs(opts, "TranscoderPoolSizeSet")
	if err != nil {
		return nil, err
	}
	return &BondingManagerTranscoderPoolSizeSetIterator{contract: _BondingManager.contract, event: "TranscoderPoolSizeSet", logs: logs, sub: sub}, nil
}

// WatchTranscoderPoolSizeSet is a free log subscription operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) WatchTranscoderPoolSizeSet(opts *bind.WatchOpts, sink chan<- *BondingManagerTranscoderPoolSizeSet) (event.Subscription, error) {

	logs, sub, err := _BondingManager.contract.WatchLogs(opts, "TranscoderPoolSizeSet")
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BondingManagerTranscoderPoolSizeSet)
				if err := _BondingManager.contract.UnpackLog(event, "TranscoderPoolSizeSet", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseTranscoderPoolSizeSet is a log parse operation binding the contract event 0x31e0c8e4f82d68ec1a03f18cdcc8436f19ab11ded42129483611682bde8c4ebe.
//
// Solidity: event TranscoderPoolSizeSet(uint256 poolSize)
func (_BondingManager *BondingManagerFilterer) ParseTranscoderPoolSizeSet(log types.Log) (*BondingManagerTranscoderPoolSizeSet, error) {
	event := new(BondingManagerTranscoderPoolSizeSet)
	if err := _BondingManager.contract.UnpackLog(event, "TranscoderPoolSizeSet", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}

// BondingManagerTranscoderRegisteredIterator is returned from FilterTranscoderRegistered and is used to iterate over the raw logs and unpacked data for TranscoderRegistered events raised by the BondingManager contract.
type BondingManagerTranscoderRegisteredIterator struct {
	Event *BondingManagerTranscoderRegistered // Event containing the contract specifics and raw log

	contract *bind.BoundContract // Generic contract to use for unpacking event data
	event    string              // Event name to use for unpacking event data

	logs chan types.Log        // Log channel receiving the found contract events
	sub  ethereum.Subscription // Subscription for errors, completion and termination
	done bool                  // Whether the subscription completed delivering logs
	fail error                 // Occurred error to stop iteration
}

// Next advances the iterator to the subsequent event, returning whether there
// are any more events found. In case of a retrieval or parsing error, false is
// returned and Error() can be queried for the exact failure.
func (it *BondingManagerTranscoderRegisteredIterator) Next() bool {
	// If the iterator failed, stop iterating
	if it.fail != nil {
		return false
	}
	// If the iterator completed, deliver directly whatever's available
	if it.done {
		select {
		case log := <-it.logs:
			it.Event = new(BondingManagerTranscoderRegistered)
			if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
				it.fail = err
				return false
			}
			it.Event.Raw = log
			return true

		default:
			return false
		}
	}
	// Iterator still in progress, wait for either a data or an error event
	select {
	case log := <-it.logs:
		it.Event = new(BondingManagerTranscoderRegistered)
		if err := it.contract.UnpackLog(it.Event, it.event, log); err != nil {
			it.fail = err
			return false
		}
		it.Event.Raw = log
		return true

	case err := <-it.sub.Err():
		it.done = true
		it.fail = err
		return it.Next()
	}
}

// Error returns any retrieval or parsing error occurred during filtering.
func (it *BondingManagerTranscoderRegisteredIterator) Error() error {
	return it.fail
}

// Close terminates the iteration process, releasing any pending underlying
// resources.
func (it *BondingManagerTranscoderRegisteredIterator) Close() error {
	it.sub.Unsubscribe()
	return nil
}

// BondingManagerTranscoderRegistered represents a TranscoderRegistered event raised by the BondingManager contract.
type BondingManagerTranscoderRegistered struct {
	Transcoder common.Address
	Registered bool
	Raw        types.Log // Blockchain specific contextual infos
}

// FilterTranscoderRegistered is a free log retrieval operation binding the contract event 0x5452a54f502ac6d388d5f2e8d9f9db17ff79f68a4f4657efdc22919426c4f728.
//
// Solidity: event TranscoderRegistered(address indexed transcoder, bool registered)
func (_BondingManager *BondingManagerFilterer) FilterTranscoderRegistered(opts *bind.FilterOpts, transcoder []common.Address) (*BondingManagerTranscoderRegisteredIterator, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.FilterLogs(opts, "TranscoderRegistered", transcoderRule)
	if err != nil {
		return nil, err
	}
	return &BondingManagerTranscoderRegisteredIterator{contract: _BondingManager.contract, event: "TranscoderRegistered", logs: logs, sub: sub}, nil
}

// WatchTranscoderRegistered is a free log subscription operation binding the contract event 0x5452a54f502ac6d388d5f2e8d9f9db17ff79f68a4f4657efdc22919426c4f728.
//
// Solidity: event TranscoderRegistered(address indexed transcoder, bool registered)
func (_BondingManager *BondingManagerFilterer) WatchTranscoderRegistered(opts *bind.WatchOpts, sink chan<- *BondingManagerTranscoderRegistered, transcoder []common.Address) (event.Subscription, error) {

	var transcoderRule []interface{}
	for _, transcoderItem := range transcoder {
		transcoderRule = append(transcoderRule, transcoderItem)
	}

	logs, sub, err := _BondingManager.contract.WatchLogs(opts, "TranscoderRegistered", transcoderRule)
	if err != nil {
		return nil, err
	}
	return event.NewSubscription(func(quit <-chan struct{}) error {
		defer sub.Unsubscribe()
		for {
			select {
			case log := <-logs:
				// New log arrived, parse the event and forward to the user
				event := new(BondingManagerTranscoderRegistered)
				if err := _BondingManager.contract.UnpackLog(event, "TranscoderRegistered", log); err != nil {
					// If the signature doesn't match, skip this log.
					if errors.Is(err, bind.ErrEventSignatureMismatch) {
						continue
					}
					return err
				}
				event.Raw = log

				select {
				case sink <- event:
				case err := <-sub.Err():
					return err
				case <-quit:
					return nil
				}
			case err := <-sub.Err():
				return err
			case <-quit:
				return nil
			}
		}
	}), nil
}

// ParseTranscoderRegistered is a log parse operation binding the contract event 0x5452a54f502ac6d388d5f2e8d9f9db17ff79f68a4f4657efdc22919426c4f728.
//
// Solidity: event TranscoderRegistered(address indexed transcoder, bool registered)
func (_BondingManager *BondingManagerFilterer) ParseTranscoderRegistered(log types.Log) (*BondingManagerTranscoderRegistered, error) {
	event := new(BondingManagerTranscoderRegistered)
	if err := _BondingManager.contract.UnpackLog(event, "TranscoderRegistered", log); err != nil {
		return nil, err
	}
	event.Raw = log
	return event, nil
}
